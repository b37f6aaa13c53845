"""Sharded indexes: layout, building (in this process or on Ray) and search."""
