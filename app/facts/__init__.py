"""The rules loading and querying share, in a package that imports neither: which fact
wins, conflicts, formulas, precision, what a search entry is read from. The loader writes
by these rules and the API reads by them, so each is written once."""
