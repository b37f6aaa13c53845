"""The answer core, in the order one `ask` runs through it: `question` (what is asked),
retrieval (`wbqa.index`), `candidates`, `features`, `reader`, `selector` (the models),
`quote` (what is quoted) and `citation`; `ask` drives them."""
