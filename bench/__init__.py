"""`make bench`: speed and memory of the four-step chain against a fused and a pandas baseline."""
