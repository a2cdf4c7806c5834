"""The messaging rules, one module per public code (PRP301-PRP307): each holds its declaration, examples,
message, fix and needs. The family's `FAMILY` (`proplint/families/messaging/__init__.py`) lists them."""
