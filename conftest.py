"""pytest configuration for the notebooks nbval runs (notebooks/ in quick mode, paper/notebooks in full
mode): checked cells are compared on what they print to stdout and display, not on stderr, where
warnings and progress lines go."""


def pytest_collectstart(collector):
    if getattr(collector, "path", None) is not None and collector.path.suffix == ".ipynb":
        collector.skip_compare += ("stderr",)
