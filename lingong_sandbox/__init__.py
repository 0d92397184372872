"""A faithful sandbox of the 灵工 SaaS platform: the embedded default the demo, tests and benchmarks run on."""
