"""App: the answer selector, citations, briefings, the command line and the Gradio page."""
