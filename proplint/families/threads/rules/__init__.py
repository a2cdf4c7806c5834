"""The thread family's rules, one module per public code (`prp201_...` to `prp208_...`): each holds the rule's
declaration, docs, examples, `needs`, message and fix; `common.py` holds what several of them share."""
