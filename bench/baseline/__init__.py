"""A bare Django app: what bench/bench_http.py compares the portal's form pages with."""
