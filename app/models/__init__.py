"""The tables, one module per domain; importing this package registers them all.

The naming convention is set here, before any table module is imported (importing one
imports this package first), so every constraint has the same name whatever is imported
first: Alembic's batch mode and `atlas synth` drop constraints by name.
"""

import importlib
import pkgutil

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every module of the package is a domain's tables: each is imported here, so a new one is
# registered without a line of its own. `tables` is left to be imported by those who use it:
# it reads the registered tables when it is imported, so it must come after all of them.
for _module in pkgutil.iter_modules(__path__):
    if _module.name != "tables":
        importlib.import_module(f"{__name__}.{_module.name}")
