"""`baton report`: one self-contained HTML file per execution (model, gather for local records,
remote for a GCP execution, cells, gantt, render, writer)."""
