"""The website channel's rules: visits, generated visitor names, traffic sources. No I/O."""
