"""Early warning: spike detection on count and share series, and its evaluation on labelled series.

Plain Python data in and out, so the product (a worker, a rule) and ``resonanz eval alerts`` run the same
code::

    det = SpikeDetector(DetectorConfig(step=3600))
    alert = det.update(hour, mentions)            # or det.update(hour, negatives, total)
    saved = det.to_state()                        # JSON; SpikeDetector.from_state(saved) continues
"""

from .detector import Alert, DetectorConfig, SpikeDetector

__all__ = ["Alert", "DetectorConfig", "SpikeDetector"]
