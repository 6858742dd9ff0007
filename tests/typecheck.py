"""The typechecker of the annotation-checking test run (`pytest
--jaxtyping-packages=neurojax,typecheck.typechecker`): beartype with PEP 484's numeric tower, so an
`int` passes where `float` is annotated (as PEP 484 says it should)."""

from beartype import BeartypeConf, beartype

typechecker = beartype(conf=BeartypeConf(is_pep484_tower=True))
