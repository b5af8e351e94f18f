"""Offline evaluation of the matching engine: BEIR-style datasets, metrics, baselines and reports.

Also live evaluation from broker decisions (`evaluation.live`). Nothing here is imported by the
service path; heavy pieces (the engine, encoders) are imported only where a run needs them.
"""
