"""The lab's own words, in English and Japanese: field labels, messages, headings.

The article's words (section titles, paragraphs, figure hints) come from the report's texts
(:func:`genlab.article.report.i18n.load_text`); these are only what the lab adds around them.
"""

from __future__ import annotations

from ..core.errors import GenlabError

LANGS = ("en", "ja")

_EN = {
    "title": "genlab lab",
    "tagline": "The article as a live laboratory: every control recomputes with genlab's own engines.",
    "home": "Contents",
    "fields": {
        "target": "target ȳ(x)", "noise": "noise σ", "x": "x distribution", "n": "training points n",
        "n_val": "validation points", "degree": "degree", "max_degree": "degrees of the curve: 0 to",
        "basis": "basis", "solver": "solver", "alpha": "ridge/lasso α", "repeats": "datasets behind the curve",
        "seed": "seed", "datasets": "datasets", "n_test": "test points", "show": "fits shown: degree",
        "folds": "cross-validation folds", "log_alpha": "log₁₀ ridge α", "runs": "runs",
        "csv": "runs as CSV (one run per row)", "form": "form", "n_col": "column of N", "d_col": "column of D",
        "loss_col": "column of the loss", "bootstrap": "bootstrap resamples", "log_flops": "log₁₀ compute C (FLOPs)",
    },
    "hints": {
        "target": "an expression in x: + - * / **, sin, exp, log, sqrt, pi, ...",
        "x": "uniform(a, b), normal(mean, std) or grid(a, b)",
        "biasvar.solver": "exact: least squares of every degree in one pass (up to n − 1)",
        "csv": "paste here, or drop a file below; columns N, D, loss (seed optional)",
    },
    "choices": {"sample": "sample runs (Chinchilla's law with 2% noise)", "pasted": "my runs (pasted or uploaded)",
                "exact": "exact least squares"},
    "need_number": "{label} must be a number, got {value}",
    "need_integer": "{label} must be an integer, got {value}",
    "need_finite": "{label} must be a finite number, got {value}",
    "need_text": "{label} must be text, got {value}",
    "too_long": "{label} is {length:,} characters long; the limit is {limit:,}",
    "below": "{label} must be at least {lo}, got {value}",
    "above": "{label} must be at most {hi}, got {value}",
    "above_cli": "{label} {value} is above genlab's limit of {cap} ({why})",
    "above_lab": "{label} {value} is above the lab's limit of {hi}: a request in the browser stays within "
                 "seconds. Run it from the shell: {command}",
    "choose": "{label} must be one of {choices}, got {value}",
    "too_slow": "this would take about {seconds:.0f} s here, past the lab's {limit:.0f} s per request; "
                "run it from the shell: {command}",
    "numbers": "Numbers",
    "command": "The same from the shell",
    "command_note": "Each view is a link: copy the address bar to share it.",
    "running": "Computing {what}: {done} of {total} blocks",
    "queued": "Starting…",
    "running_store": "{what}: {done} of {total} jobs done (kept in the lab's store: a cancelled sweep resumes "
                     "from there)",
    "waiting": "{what}: waiting for the lab's other sweep to finish (one runs at a time)",
    "busy_inline": "The lab is computing {n} other requests; try again in a moment",
    "cancel": "Cancel",
    "cancelled": "Cancelled; the figures show the last finished computation.",
    "busy": "The lab is already running {n} long computations; wait for one to finish, or run it from the shell: "
            "{command}",
    "internal": "Something went wrong inside the lab ({error}); the server keeps running. Change a value "
                "and try again.",
    "link_ignored": "The link's value of {label} was not used: {message}",
    "fit": "Fit",
    "download": "Download runs.csv",
    "upload": "Drop a CSV file here, or click to choose one (at most {limit})",
    "upload_bad": "The file {name} cannot be used: {why}",
    "upload_big": "it is {size} long; the limit is {limit}",
    "upload_ok": "{name}: {rows} rows read",
    "runs_missing": "paste the runs (a CSV with a header row), or upload a file",
    "phase2": "This section's experiments train many networks: minutes to hours on a CPU. The lab does not run "
              "them yet; run them from the shell (each command resumes when run again):",
    "no_command": "(no genlab command draws this dataset yet: `genlab regularize --method ridge-cv` uses the "
                  "article's data, n = 30)",
    "not_shown": "(degree {degree} is outside the curve's degrees)",
    "alpha_unused": "α is used by ridge and lasso only; set it to 0 or choose one of them",
    "lasso_alpha": "lasso needs α > 0",
    "exact_degree": "exact least squares goes up to degree n − 1 = {top}; choose a solver (minnorm, or lstsq as "
                    "np.polyfit) for higher degrees",
    "folds_n": "{folds} folds need at least {folds} training points (n = {n})",
    "save_runs": "# save the runs as runs.csv (the button below), then:",
    "squared_error": "squared error",
    "n": {
        "train_rmse": "training RMSE", "val_rmse": "validation RMSE", "n_params": "parameters",
        "condition_number": "condition number of the design", "best_degree": "best degree (median validation RMSE)",
        "val_mean": "validation RMSE at this degree (mean ± s.e. over datasets)",
        "val_median": "validation RMSE at this degree (median over datasets)",
        "bias2": "bias²", "variance": "variance", "noise": "noise", "error": "test error (measured)",
        "error_median": "test error (median over datasets)", "verdict": "tail of the per-dataset error",
        "theory_verdict": "tail in theory (least squares, uniform x)", "tail_index": "tail index (Hill, 95%)",
        "best": "lowest measured error (finite mean): degree", "identity_z": "largest |sum − measured| / s.e.",
        "cv_alpha": "α chosen by cross-validation", "cv_mse": "cross-validation MSE at this α",
        "fit_alpha": "ridge α", "alpha": "α", "E": "E (irreducible loss)", "a": "a = β/(α+β): N* ∝ C^a",
        "N_opt": "N* (compute-optimal parameters)", "D_opt": "D* (compute-optimal tokens)",
        "tokens_per_param": "tokens per parameter", "loss_opt": "predicted loss at C", "law": "law",
        "no_se": "no valid s.e. (heavy tail)", "not_identified": "not identified by these runs",
        "runs": "runs", "holdout": "hold-out: the largest model predicted within",
    },
    "table": {"degree": "degree", "bias2": "bias²", "variance": "variance", "error": "error ± s.e.",
              "verdict": "tail", "plan": "plan", "N": "N*", "D": "D*", "tpp": "D*/N*", "loss": "loss"},
    "plot": {"median": "median", "mean": "mean", "band": "interquartile range", "selected": "selected",
             "first_fits": "fits on single datasets", "index": "tail index (Hill)", "theory": "theory",
             "local": "theory over the windows sampled", "finite_var": "variance finite above",
             "finite_mean": "mean finite above", "error_median": "test error (median)",
             "inf_var": "tail: infinite variance (no s.e.)", "inf_mean": "tail: infinite mean", "runs": "runs",
             "frontier_N": "N*(C)", "frontier_D": "D*(C)", "budget": "chosen C", "compute": "compute C (FLOPs)",
             "params": "parameters N", "loss": "loss", "preset": "{name}'s law", "current": "this α",
             "validation_error": "validation RMSE"},
    "pages": {"overfitting": "§2 Overfitting", "biasvar": "§3 Bias and variance", "ridge": "§4.2 Ridge",
              "scaling": "§4.3 Scaling laws", "double_descent": "§4.1 Double descent",
              "lottery": "§5 Lottery tickets"},
}

_JA = {
    "title": "genlab ラボ",
    "tagline": "記事を生きた実験室に:どの操作も genlab 自身の計算エンジンで計算し直します。",
    "home": "目次",
    "fields": {
        "target": "真の関数 ȳ(x)", "noise": "ノイズ σ", "x": "x の分布", "n": "訓練点の数 n",
        "n_val": "検証点の数", "degree": "次数", "max_degree": "曲線の次数:0 から", "basis": "基底",
        "solver": "ソルバー", "alpha": "リッジ/ラッソの α", "repeats": "曲線に使うデータセット数", "seed": "シード",
        "datasets": "データセット数", "n_test": "テスト点の数", "show": "表示するフィットの次数",
        "folds": "交差検証の分割数", "log_alpha": "log₁₀ リッジ α", "runs": "実験結果",
        "csv": "実験結果の CSV(1 行に 1 実験)", "form": "関数形", "n_col": "N の列", "d_col": "D の列",
        "loss_col": "損失の列", "bootstrap": "ブートストラップ回数", "log_flops": "log₁₀ 計算量 C(FLOPs)",
    },
    "hints": {
        "target": "x の式:+ - * / **、sin, exp, log, sqrt, pi など",
        "x": "uniform(a, b)、normal(平均, 標準偏差)、grid(a, b)",
        "biasvar.solver": "exact:すべての次数の最小二乗を一度に(n − 1 次まで)",
        "csv": "ここに貼り付けるか、下にファイルをドロップ。列は N, D, loss(seed は任意)",
    },
    "choices": {"sample": "サンプル(Chinchilla の法則 + 2% のノイズ)", "pasted": "自分の実験結果(貼り付け・アップロード)",
                "exact": "厳密な最小二乗"},
    "need_number": "{label} には数値を入れてください({value} は数値ではありません)",
    "need_integer": "{label} には整数を入れてください({value} は整数ではありません)",
    "need_finite": "{label} には有限の数値を入れてください({value})",
    "need_text": "{label} には文字列を入れてください({value})",
    "too_long": "{label} が {length:,} 文字あります。上限は {limit:,} 文字です",
    "below": "{label} は {lo} 以上にしてください({value})",
    "above": "{label} は {hi} 以下にしてください({value})",
    "above_cli": "{label} {value} は genlab の上限 {cap} を超えています({why})",
    "above_lab": "{label} {value} はラボの上限 {hi} を超えています。ブラウザからの計算は数秒以内に収めます。"
                 "シェルで実行してください:{command}",
    "choose": "{label} は {choices} のどれかにしてください({value})",
    "too_slow": "この計算にはここで約 {seconds:.0f} 秒かかり、ラボの 1 リクエストあたり {limit:.0f} 秒を超えます。"
                "シェルで実行してください:{command}",
    "numbers": "数値",
    "command": "シェルで同じ計算をするには",
    "command_note": "表示中の状態はそのまま URL になっています。アドレスバーをコピーすれば共有できます。",
    "running": "{what} を計算中:{total} ブロック中 {done}",
    "queued": "開始しています…",
    "running_store": "{what}:{total} ジョブ中 {done} 完了(ラボのストアに保存:キャンセルしたスイープはそこから再開します)",
    "waiting": "{what}:ラボの別のスイープの終了を待っています(同時に実行するのは 1 つ)",
    "busy_inline": "ラボは他に {n} 件の計算中です。少し待ってからもう一度試してください",
    "cancel": "中止",
    "cancelled": "中止しました。図は最後に完了した計算のままです。",
    "busy": "ラボはすでに {n} 件の長い計算を実行中です。終わるのを待つか、シェルで実行してください:{command}",
    "internal": "ラボの内部でエラーが起きました({error})。サーバーは動き続けています。値を変えてもう一度試してください。",
    "link_ignored": "リンクの {label} の値は使いませんでした:{message}",
    "fit": "フィット",
    "download": "runs.csv をダウンロード",
    "upload": "CSV ファイルをここにドロップ、またはクリックして選択(最大 {limit})",
    "upload_bad": "ファイル {name} は使えません:{why}",
    "upload_big": "サイズが {size} あり、上限は {limit} です",
    "upload_ok": "{name}:{rows} 行を読み込みました",
    "runs_missing": "実験結果(ヘッダー行つきの CSV)を貼り付けるか、ファイルをアップロードしてください",
    "phase2": "この節の実験は多数のネットワークを訓練するため、CPU では数分から数時間かかります。ラボではまだ実行しません。"
              "シェルで実行してください(同じコマンドをもう一度実行すると続きから再開します):",
    "no_command": "(このデータを描く genlab コマンドはまだありません:`genlab regularize --method ridge-cv` は記事のデータ"
                  " n = 30 を使います)",
    "not_shown": "(次数 {degree} は曲線の範囲外です)",
    "alpha_unused": "α はリッジとラッソだけが使います。0 にするか、どちらかを選んでください",
    "lasso_alpha": "ラッソには α > 0 が必要です",
    "exact_degree": "厳密な最小二乗は n − 1 = {top} 次までです。それより高い次数にはソルバー(minnorm か np.polyfit と"
                    "同じ lstsq)を選んでください",
    "folds_n": "{folds} 分割には訓練点が {folds} 個以上必要です(n = {n})",
    "save_runs": "# 実験結果を runs.csv として保存(下のボタン)してから:",
    "squared_error": "二乗誤差",
    "n": {
        "train_rmse": "訓練 RMSE", "val_rmse": "検証 RMSE", "n_params": "パラメータ数",
        "condition_number": "計画行列の条件数", "best_degree": "最良の次数(検証 RMSE の中央値)",
        "val_mean": "この次数の検証 RMSE(データセット平均 ± 標準誤差)",
        "val_median": "この次数の検証 RMSE(データセットの中央値)",
        "bias2": "バイアス²", "variance": "バリアンス", "noise": "ノイズ", "error": "テスト誤差(実測)",
        "error_median": "テスト誤差(データセットの中央値)", "verdict": "データセットごとの誤差の裾",
        "theory_verdict": "理論上の裾(最小二乗、一様な x)", "tail_index": "裾指数(Hill、95%)",
        "best": "実測誤差が最小(平均が有限)の次数", "identity_z": "|和 − 実測| / 標準誤差 の最大値",
        "cv_alpha": "交差検証で選んだ α", "cv_mse": "この α での交差検証 MSE", "fit_alpha": "リッジ α",
        "alpha": "α", "E": "E(削減できない損失)", "a": "a = β/(α+β):N* ∝ C^a",
        "N_opt": "N*(計算量最適なパラメータ数)", "D_opt": "D*(計算量最適なトークン数)",
        "tokens_per_param": "パラメータあたりのトークン数", "loss_opt": "C での予測損失", "law": "法則",
        "no_se": "有効な標準誤差なし(裾が重い)", "not_identified": "この実験結果からは決まらない",
        "runs": "実験数", "holdout": "ホールドアウト:最大のモデルの予測誤差",
    },
    "table": {"degree": "次数", "bias2": "バイアス²", "variance": "バリアンス", "error": "誤差 ± 標準誤差",
              "verdict": "裾", "plan": "計画", "N": "N*", "D": "D*", "tpp": "D*/N*", "loss": "損失"},
    "plot": {"median": "中央値", "mean": "平均", "band": "四分位範囲", "selected": "選択中",
             "first_fits": "個々のデータセットでのフィット", "index": "裾指数(Hill)", "theory": "理論",
             "local": "実際に現れる窓での理論", "finite_var": "これより上で分散が有限",
             "finite_mean": "これより上で平均が有限", "error_median": "テスト誤差(中央値)",
             "inf_var": "裾:分散が無限(標準誤差なし)", "inf_mean": "裾:平均が無限", "runs": "実験",
             "frontier_N": "N*(C)", "frontier_D": "D*(C)", "budget": "選んだ C", "compute": "計算量 C(FLOPs)",
             "params": "パラメータ数 N", "loss": "損失", "preset": "{name} の法則", "current": "この α",
             "validation_error": "検証 RMSE"},
    "pages": {"overfitting": "§2 過学習", "biasvar": "§3 バイアスとバリアンス", "ridge": "§4.2 リッジ",
              "scaling": "§4.3 スケーリング則", "double_descent": "§4.1 Double Descent",
              "lottery": "§5 宝くじ仮説"},
}

WORDS = {"en": _EN, "ja": _JA}


def words(lang: str) -> dict:
    """The lab's words in ``lang`` (``en`` or ``ja``)."""
    if lang not in WORDS:
        raise GenlabError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    return WORDS[lang]
