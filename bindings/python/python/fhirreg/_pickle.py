"""Unpickling support: a Validator pickles as its configuration."""

from typing import Any, Dict


def _rebuild_validator(config: Dict[str, Any]):
    from fhirreg import Validator

    return Validator(**config)
