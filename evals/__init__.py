"""Evals: the project's question set, retrieval and answer metrics, public benchmarks."""
