"""`baton report`: one self-contained HTML file per execution (model, gather, cells, gantt,
render, writer)."""
