"""The machine the toolkit runs on: files written safely, processes known by pid and
start time, the git repository, loopback checks, library versions. Imports nothing else of
the toolkit."""
