"""Expressions: lexer, parser, nodes, evaluator, `${}` templates and the value model."""
