"""Built-in routers and their registry."""

from harness.routers.base import Registry, Router, RouterContext, rank

ROUTERS = Registry("router")


def _tfidf(ctx):
    from harness.routers.lexical import TfidfRouter
    return TfidfRouter()


def _bm25(ctx):
    from harness.routers.lexical import BM25Router
    return BM25Router()


def _dense(ctx):
    from harness.routers.dense import DenseRouter
    return DenseRouter(ctx)


def _hybrid(ctx):
    from harness.routers.hybrid import HybridRouter
    return HybridRouter(ctx)


for _name, _factory in (("tfidf", _tfidf), ("bm25", _bm25), ("dense", _dense), ("hybrid", _hybrid)):
    ROUTERS.register(_name, _factory)

BUILTIN = ("tfidf", "bm25", "dense", "hybrid")

__all__ = ["ROUTERS", "BUILTIN", "Router", "RouterContext", "rank"]
