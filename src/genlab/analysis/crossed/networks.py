"""The networks of the crossed width sweep (``genlab biasvar --model mlp`` and the lab's §4.1 page): the
prototype MLP and the ``--widths`` ladder."""

from __future__ import annotations

from ...core.errors import GenlabError

#: full-batch Adam's learning rate of the crossed width sweep
LR = 1e-2


def parse_widths(text: str, *, allow_large: bool = False) -> list[int]:
    """``--widths``: ``a-b`` (the doubling ladder a, 2a, 4a, … ≤ b, then b), numbers, commas between them;
    sorted, each once, each in 1 .. the width cap."""
    from ...core.limits import check_cap

    out = set()
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part:
                a, b = (int(s) for s in part.split("-"))
                if a < 1 or b < a:
                    raise ValueError
                ladder, w = [], a
                while w <= b:
                    ladder.append(w)
                    w *= 2
                out.update(ladder + [b])
            else:
                out.add(int(part))
        except ValueError:
            raise GenlabError(f"--widths {text!r}: give widths >= 1 as a range a-b with a <= b (a doubling "
                              "ladder) or numbers separated by commas, e.g. 2-2048 or 4,16,64") from None
    if not out or min(out) < 1:
        raise GenlabError(f"--widths {text!r}: every width must be at least 1")
    check_cap(max(out), "width", allow_large=allow_large, option="--widths")
    return sorted(out)


def mlp_estimator(task: str, epochs: int, device: str):
    """The prototype network: one hidden ReLU layer, full-batch Adam, on ``device`` (resolved: cpu or cuda; it
    travels in the estimator's spec, so a job's store key says where it ran). One torch thread per worker."""
    from ...models import TorchMLPClassifier, TorchMLPRegressor

    cls = TorchMLPClassifier if task == "classification" else TorchMLPRegressor
    return cls(width=2, epochs=epochs, lr=LR, batch_size=None, device=device)
