"""The MongoDB store backend (PyMongo's AsyncMongoClient), selected by a mongodb:// store URL."""

from hub.store.mongo.store import MongoStore

__all__ = ["MongoStore"]
