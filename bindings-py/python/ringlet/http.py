"""The bus over HTTP: a Confluent REST Proxy–compatible server for a notebook's bus.

>>> import ringlet, ringlet.http                                 # doctest: +SKIP
>>> bus = ringlet.Bus()                                          # doctest: +SKIP
>>> orders = bus.topic("orders", partitions=3)                   # doctest: +SKIP
>>> server = ringlet.http.serve(bus, port=8082)                  # doctest: +SKIP
>>> server.url                                                   # doctest: +SKIP
'http://127.0.0.1:8082'
>>> server.stop()                                                # doctest: +SKIP

Anything that speaks HTTP can then produce and consume: ``curl``, another
process, a browser page (``EventSource`` on
``/v3/clusters/ringlet/topics/orders/events``). The paths are REST Proxy's (v3
produce and topics, v2 consumer instances) plus Ringlet's queues and live event
streams; ``/openapi.json`` lists them.

Python values cross as JSON documents (dict, list, int, float, bool), text
(``str``) or bytes; ``None`` is no value. A record whose value is none of
these (a ``set``, an object) is handed to HTTP consumers with ``"value": null``
and an ``"error"`` saying why. Topics and queues created over HTTP hold Python
values, as if the notebook had created them. The server runs on a background
thread and listens on 127.0.0.1 unless ``host`` says otherwise; ``token``
requires ``Authorization: Bearer <token>`` on every request.
"""

from ._ringlet import HttpServer, serve

__all__ = ["HttpServer", "serve"]
