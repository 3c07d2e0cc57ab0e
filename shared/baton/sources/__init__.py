"""Where extract reads a partition from: landing files of several formats, and HTTP APIs.

Each source is a frozen part of a dataset definition; adding a dataset touches no step code.
"""
