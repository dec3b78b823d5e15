"""One module per rule, named `asl<NNN>_<name>.py`, each exposing `RULE`.

Modules starting with an underscore hold logic shared by a family of rules.
"""
