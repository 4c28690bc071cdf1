"""Google Drive, BG-20k's official home: links, pages, single files and whole folders."""
