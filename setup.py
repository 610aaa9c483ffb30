"""The repository root is the package ``track2view``; its sub-packages are found here."""

from setuptools import find_packages, setup

_NOT_SHIPPED = ["tests", "tests.*", "bench", "bench.*", "wheels", "build", "out", "data", "cache"]

setup(packages=["track2view"] + [f"track2view.{p}" for p in find_packages(".", exclude=_NOT_SHIPPED)])
