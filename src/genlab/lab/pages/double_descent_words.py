"""The words of the lab's §4.1 page (en and ja) beyond the lab's shared ones (:mod:`genlab.lab.words`)."""

from __future__ import annotations

WORDS = {
    "en": {
        "use": {"relu": "Random ReLU features, minimum-norm least squares on one-hot labels (Fig. 13): n training "
                        "points, p random features on the CLI's grid (10 to 20n, dense near n) or your own log-spaced "
                        "range, label noise, seeds.",
                "fourier": "Random Fourier features: as ReLU (n, p, label noise, seeds).",
                "poly": "Minimum-norm polynomials in four bases against the degree (0 to 60) on a synthetic source "
                        "(article: 2x² + 1; hard: 2x + cos 25x): n, noise σ, seeds.",
                "samples": "Sample-wise: the minimum-norm linear model as the training set grows past the rank d "
                           "of the inputs (seeds); isotropic data: x ~ N(0, I_d) with d = n and noise σ.",
                "mlp": "An MLP's width sweep, as genlab biasvar --model mlp: widths (a-b doubles from a to b, or a "
                       "list), data draws (datasets), seeds per draw, epochs of full-batch Adam, n training and "
                       "test points, label noise. Always a sweep of the lab's store."},
        "fields_used": "Used by this experiment: {fields}. The others keep their values for later.",
        "guide": "What each experiment computes, and the fields it reads",
        "data_model": "{model} runs on {choices}; got {data}",
        "rows": "{data} has {rows:,} rows: n = {n:,} leaves no test rows; lower n",
        "rows_mlp": "{data} has {rows:,} rows: n + test points = {need:,} do not fit; lower them",
        "poly_n": "the polynomial sweep runs degrees 0 to 60: give n at most 61 so that the threshold "
                  "(degree n − 1) is on the curve (the article uses 15)",
        "rate": "label noise must be a fraction in [0, 1), got {value}",
        "rate_regression": "label noise flips class labels; {data} is a regression target (use 0)",
        "p_order": "the largest p ({hi:,}) must be at least the smallest ({lo:,})",
        "seeds_two": "the network's sweep needs at least 2 seeds per data draw (a variance between seeds)",
        "width_lab": "the lab trains widths up to {hi:,} (got {value:,}); run wider ones from the shell",
        "csv_missing": "paste the data (a CSV with a header row), or upload a file",
        "csv_big": "the data are {size} long; the limit is {limit}",
        "csv_rows": "more than {limit:,} rows: the lab reads at most {limit:,}; run it from the shell",
        "csv_bad": "the data cannot be read as CSV: {why}",
        "csv_text": "the data are not UTF-8 text",
        "csv_col": "the data have no column {col!r}; their columns are {cols}",
        "csv_inputs": "the data have no column besides the target {col!r}; add the inputs",
        "save_data": "# save the data as data.csv (the text above), then:",
        "python_grid": "# the CLI has no option for the grid of p; the same sweep in Python:",
        "queued_what": {"rf": "random {model} features on {data} ({seeds} seeds, p up to {p:,})",
                        "poly": "minimum-norm polynomials ({seeds} datasets)",
                        "samples": "sample-wise linear regression on {data} ({seeds} seeds)",
                        "mlp": "MLP width sweep on {data} ({widths} widths × {R} data draws × {S} seeds, "
                               "{epochs} epochs)"},
        "n": {"peak": "peak of the median test error", "classical": "classical minimum (before the threshold)",
              "after_peak": "minimum after the peak", "ratio": "second descent / classical minimum",
              "threshold": "interpolation threshold", "train_end": "median training error at the largest {knob}",
              "test01_end": "median test 0-1 error at the largest {knob}", "seeds": "seeds",
              "from_store": "jobs read back from the lab's store", "at": "{value} at {knob} {at}",
              "none": "— (no point on that side)", "peak_n": "peak of the median test error (n)",
              "theory_at_peak": "theory (Hastie et al.) at that n", "mlp_threshold": "interpolation threshold "
              "(parameters = n_train × outputs): width", "mlp_peak": "the variance peaks at width",
              "mlp_shares": "shares of the variance there", "mlp_error_peak": "test error there (one network)",
              "mlp_ensemble": "ensemble of {k} seeds there", "mlp_lowest": "lowest test error",
              "mlp_train_end": "training error of the widest", "mlp_bump": "test error's peak (most prominent)",
              "no_bump": "— (no interior peak)", "csv_rows": "rows of your data"},
        "table": {"test": "test error: median [q25, q75]", "train": "training error (median)",
                  "test01": "test 0-1 error (median)", "bias2": "bias²", "v_data": "V_data", "v_init": "V_init",
                  "v_interaction": "V_data×init", "error": "test error ± s.e.", "train_mlp": "training error"},
        "plot": {"test": "test error (median over seeds)", "iqr": "interquartile range", "mean": "mean",
                 "train": "training error (median)", "threshold": "interpolation threshold", "theory": "theory",
                 "sq_error": "squared error", "sq_error_mlp": "squared error of the class probabilities (Brier)",
                 "test_mlp": "test error (mean over the fits)", "train_mlp": "training error (mean)",
                 "ensemble": "ensemble of {k} seeds", "coef_norm": "‖β‖, coefficient norm (median)",
                 "inv_sigma2": "1/σ_min² (median)", "why": "why the peak", "bias2": "bias²",
                 "v_data": "V_data (the data)", "v_init": "V_init (the seed)",
                 "v_interaction": "V_data×init (interaction)", "v_total": "variance (total)",
                 "knob": {"p": "random features p", "degree": "polynomial degree", "n": "training points n",
                          "width": "hidden units (width)"}},
        "upload": "Drop a CSV file here, or click to choose one (at most {limit})",
        "compute": "Compute with the pasted data",
    },
    "ja": {
        "use": {"relu": "ランダム ReLU 特徴、one-hot ラベルへの最小ノルム最小二乗(図13):訓練点の数 n、ランダム特徴の数 p"
                        "(CLI のグリッド:10 から 20n、n の近くを密に、または自分で決める対数等間隔の範囲)、ラベルノイズ、シード数。",
                "fourier": "ランダム Fourier 特徴:ReLU と同じ(n、p、ラベルノイズ、シード数)。",
                "poly": "4 つの基底での最小ノルム多項式を次数(0〜60)に対して。合成データ(article:2x² + 1、"
                        "hard:2x + cos 25x):n、ノイズ σ、シード数。",
                "samples": "サンプル数方向:訓練データが入力の階数 d を超えて増えるときの最小ノルム線形モデル(シード数)。"
                           "isotropic:x ~ N(0, I_d)、d = n、ノイズ σ。",
                "mlp": "MLP の幅の掃引(genlab biasvar --model mlp と同じ):幅(a-b は a から b まで倍々、またはリスト)、"
                       "データの抽出回数(データセット数)、抽出ごとのシード数、全バッチ Adam のエポック数、訓練点とテスト点の数、"
                       "ラベルノイズ。常にラボのストアのスイープとして実行します。"},
        "fields_used": "この実験が使う項目:{fields}。ほかの項目の値はそのまま残ります。",
        "guide": "各実験が計算するものと、使う項目",
        "data_model": "{model} が使えるデータは {choices} です({data} は使えません)",
        "rows": "{data} は {rows:,} 行です:n = {n:,} ではテスト用の行が残りません。n を小さくしてください",
        "rows_mlp": "{data} は {rows:,} 行です:n + テスト点 = {need:,} が収まりません。小さくしてください",
        "poly_n": "多項式の掃引は次数 0〜60 です。しきい値(次数 n − 1)が曲線に入るよう n を 61 以下にしてください"
                  "(記事では 15)",
        "rate": "ラベルノイズは [0, 1) の割合にしてください({value})",
        "rate_regression": "ラベルノイズはクラスラベルを入れ替えます。{data} は回帰の目的変数です(0 にしてください)",
        "p_order": "p の最大値({hi:,})は最小値({lo:,})以上にしてください",
        "seeds_two": "ネットワークの掃引には、データの抽出ごとに 2 つ以上のシードが必要です(シード間のバリアンス)",
        "width_lab": "ラボで訓練する幅は {hi:,} までです({value:,})。それより広いものはシェルで実行してください",
        "csv_missing": "データ(ヘッダー行つきの CSV)を貼り付けるか、ファイルをアップロードしてください",
        "csv_big": "データが {size} あり、上限は {limit} です",
        "csv_rows": "{limit:,} 行を超えています。ラボで読むのは {limit:,} 行までです。シェルで実行してください",
        "csv_bad": "データを CSV として読めません:{why}",
        "csv_text": "データが UTF-8 のテキストではありません",
        "csv_col": "データに列 {col!r} がありません。列は {cols} です",
        "csv_inputs": "目的変数 {col!r} 以外の列がありません。入力の列を加えてください",
        "save_data": "# データを data.csv として保存(上のテキスト)してから:",
        "python_grid": "# CLI には p のグリッドを決めるオプションがありません。Python で同じ掃引をするには:",
        "queued_what": {"rf": "{data} でのランダム {model} 特徴(シード {seeds}、p は {p:,} まで)",
                        "poly": "最小ノルム多項式(データセット {seeds})",
                        "samples": "{data} でのサンプル数方向の線形回帰(シード {seeds})",
                        "mlp": "{data} での MLP の幅の掃引(幅 {widths} × データ {R} × シード {S}、{epochs} エポック)"},
        "n": {"peak": "テスト誤差の中央値の山", "classical": "古典的な最小値(しきい値より前)",
              "after_peak": "山を越えた後の最小値", "ratio": "2 回目の下降 / 古典的な最小値",
              "threshold": "補間しきい値", "train_end": "最大の {knob} での訓練誤差の中央値",
              "test01_end": "最大の {knob} でのテスト 0-1 誤差の中央値", "seeds": "シード数",
              "from_store": "ラボのストアから読み戻したジョブ", "at": "{knob} {at} で {value}",
              "none": "—(その側に点がありません)", "peak_n": "テスト誤差の中央値の山(n)",
              "theory_at_peak": "その n での理論値(Hastie ほか)",
              "mlp_threshold": "補間しきい値(パラメータ数 = 訓練点 × 出力数):幅", "mlp_peak": "バリアンスの山の幅",
              "mlp_shares": "そこでのバリアンスの内訳", "mlp_error_peak": "そこでのテスト誤差(ネットワーク 1 つ)",
              "mlp_ensemble": "そこでの {k} シードのアンサンブル", "mlp_lowest": "最小のテスト誤差",
              "mlp_train_end": "最も広いネットワークの訓練誤差", "mlp_bump": "テスト誤差の山(最も顕著なもの)",
              "no_bump": "—(内部に山がありません)", "csv_rows": "データの行数"},
        "table": {"test": "テスト誤差:中央値 [q25, q75]", "train": "訓練誤差(中央値)",
                  "test01": "テスト 0-1 誤差(中央値)", "bias2": "バイアス²", "v_data": "V_data", "v_init": "V_init",
                  "v_interaction": "V_data×init", "error": "テスト誤差 ± 標準誤差", "train_mlp": "訓練誤差"},
        "plot": {"test": "テスト誤差(シード間の中央値)", "iqr": "四分位範囲", "mean": "平均",
                 "train": "訓練誤差(中央値)", "threshold": "補間しきい値", "theory": "理論",
                 "sq_error": "二乗誤差", "sq_error_mlp": "クラス確率の二乗誤差(Brier)",
                 "test_mlp": "テスト誤差(フィットの平均)", "train_mlp": "訓練誤差(平均)",
                 "ensemble": "{k} シードのアンサンブル", "coef_norm": "係数ノルム ‖β‖(中央値)",
                 "inv_sigma2": "1/σ_min²(中央値)", "why": "なぜ山ができるのか", "bias2": "バイアス²",
                 "v_data": "V_data(データ)", "v_init": "V_init(シード)", "v_interaction": "V_data×init(交互作用)",
                 "v_total": "バリアンス(合計)",
                 "knob": {"p": "ランダム特徴の数 p", "degree": "多項式の次数", "n": "訓練点の数 n",
                          "width": "隠れユニット数(幅)"}},
        "upload": "CSV ファイルをここにドロップ、またはクリックして選択(最大 {limit})",
        "compute": "貼り付けたデータで計算",
    },
}

#: The fields each experiment uses (the others keep their values, unused).


def dd_words(lang: str) -> dict:
    return WORDS.get(lang, WORDS["en"])
