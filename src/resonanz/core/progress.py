"""A progress bar for long commands (train, import, eval) that the engine drives as ``progress(n_done_now)``."""

from __future__ import annotations

from tqdm import tqdm


class Progress:
    """Callable ``progress(n)`` adding n finished items to a bar on stderr."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "texts") -> None:
        self.bar = tqdm(total=total, desc=desc, unit=unit, leave=True)

    def __call__(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()
