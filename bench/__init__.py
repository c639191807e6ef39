"""The ledgerx benchmark (`make bench` = `python -m bench`): data, baselines, figures."""
