"""baton extract: landing data of one partition -> typed raw Parquet (+ rows that do not parse)."""
