"""The NASWOT README's generated blocks (named in published.yaml ``readme.blocks``): the table
of runs, the cost by host and the result paragraphs, written from the run records in
``results/naswot`` and ``run_notes.yaml`` by the leaderboard generator."""
