"""Example shop service: deliberately full of async anti-patterns (see ../EXPECTED.md)."""
