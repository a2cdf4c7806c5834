"""The rules of the hygiene family (PRP401-PRP412), one module per public code: each holds the rule's
declaration, docs and examples, its `message`, its fix (`build_fix`) and its `needs`."""
