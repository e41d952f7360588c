"""``python -m documents.render_worker``: one of the processes that
``documents.rendering.render_all`` deals letters out to.

It reads the pickled jobs on stdin, then writes each result to stdout as soon as it is made
(its length on 8 bytes, then its pickle), so it holds one letter at a time. The results are
``documents.rendering``'s classes, which the parent unpickles (this module is ``__main__`` here:
nothing it defines is sent back).
"""

from __future__ import annotations

import pickle
import sys

from documents.rendering import LENGTH_BYTES, Renderer, render_one


def main() -> None:
    jobs, batch = pickle.loads(sys.stdin.buffer.read())
    renderer = Renderer(batch.coop, batch.params)
    out = sys.stdout.buffer
    for job in jobs:
        data = pickle.dumps(
            render_one(renderer, job, batch.as_of), protocol=pickle.HIGHEST_PROTOCOL
        )
        out.write(len(data).to_bytes(LENGTH_BYTES, "big") + data)
        out.flush()


if __name__ == "__main__":
    main()
