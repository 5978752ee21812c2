"""Regenerate ``aws_taggable_types.txt``: every pulumi-aws resource type that accepts a ``tags`` input.

The policy pack runs in its own small virtualenv without pulumi-aws, so the list of taggable types is
committed next to the rules. Run this with the project virtualenv (which has the pinned pulumi-aws) after
upgrading pulumi-aws::

    .venv/bin/python policy/generate_taggable_types.py

``tests/policy/test_taggable_types.py`` fails when the committed list and the installed SDK disagree.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

TAGGABLE_TYPES_FILE = Path(__file__).with_name("aws_taggable_types.txt")

_RESOURCE_CLASS = re.compile(r'@pulumi\.type_token\("(aws:[^"]+)"\)\nclass \w+\(pulumi\.CustomResource\):')
_INTERNAL_INIT = re.compile(r"def _internal_init\(__self__,(.*?)\):", re.DOTALL)
_TAGS_PARAMETER = re.compile(r"^\s+tags:", re.MULTILINE)


def pulumi_aws_source_dir() -> Path:
    """The directory of the installed pulumi_aws package."""
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pulumi_aws is not installed in this interpreter; use the project .venv")
    return Path(next(iter(spec.submodule_search_locations)))


def taggable_types_in(source_dir: Path) -> list[str]:
    """Sorted type tokens of the resources in ``source_dir`` whose constructor takes ``tags``.

    Reads the generated SDK source instead of importing ~1,700 resource modules (0.3 s instead of
    minutes). Each resource class is followed by its own ``_internal_init``, whose parameters are the
    resource's inputs.
    """
    taggable: set[str] = set()
    for module in source_dir.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        classes = list(_RESOURCE_CLASS.finditer(text))
        for index, resource_class in enumerate(classes):
            body_end = classes[index + 1].start() if index + 1 < len(classes) else len(text)
            init = _INTERNAL_INIT.search(text, resource_class.end(), body_end)
            if init is None:
                raise RuntimeError(f"{module}: no _internal_init for {resource_class.group(1)}")
            if _TAGS_PARAMETER.search(init.group(1)):
                taggable.add(resource_class.group(1))
    return sorted(taggable)


def render(types: list[str]) -> str:
    """The file content for ``types``: one token a line."""
    return "".join(f"{token}\n" for token in types)


def main() -> int:
    types = taggable_types_in(pulumi_aws_source_dir())
    TAGGABLE_TYPES_FILE.write_text(render(types), encoding="utf-8")
    print(f"wrote {len(types)} taggable types to {TAGGABLE_TYPES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
