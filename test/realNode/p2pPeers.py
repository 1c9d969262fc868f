#!/usr/bin/env python3
"""Test peers from Bitcoin Core's own functional test framework, against a running regtest bitcoind.

    python3 p2pPeers.py --source BITCOIN_SOURCE --port P2P_PORT misbehave
        one inbound peer that sends a `headers` message with 2001 headers (more than MAX_HEADERS_RESULTS), which
        the node punishes as misbehaviour (as upstream's interface_usdt_net.py does), then waits to be dropped.
    python3 p2pPeers.py --source BITCOIN_SOURCE --port P2P_PORT evict --peers N
        N inbound peers, one after the other; with -maxconnections small enough the node evicts some of them
        to make room (as upstream's interface_usdt_net.py and p2p_eviction.py do). Then all disconnect.

Prints one JSON object on stdout: the local address:port of every peer (how the node names it), which ones the
node dropped, and the ping nonces each peer sent. Uses the framework's P2PInterface (v1 transport).
"""

import argparse
import json
import os
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--source', required=True, help='the Bitcoin Core source tree (test/functional inside)')
    parser.add_argument('--port', type=int, required=True)
    sub = parser.add_subparsers(dest='mode', required=True)
    sub.add_parser('misbehave')
    evict = sub.add_parser('evict')
    evict.add_argument('--peers', type=int, required=True)
    args = parser.parse_args()

    sys.path.insert(0, os.path.join(args.source, 'test', 'functional'))
    from test_framework.messages import MAX_HEADERS_RESULTS, CBlockHeader, msg_headers
    from test_framework.p2p import NetworkThread, P2PInterface

    network = NetworkThread()
    network.start()
    while NetworkThread.network_event_loop is None or not NetworkThread.network_event_loop.is_running():
        time.sleep(0.01)

    def connect() -> P2PInterface:
        peer = P2PInterface()
        peer.peer_connect(dstaddr='127.0.0.1', dstport=args.port, send_version=True, net='regtest',
                          timeout_factor=1, supports_v2_p2p=False)()
        peer.wait_until(lambda: peer.is_connected, check_connected=False)
        peer.local = '%s:%d' % peer._transport.get_extra_info('socket').getsockname()[:2]
        return peer

    def handshake(peer: P2PInterface) -> bool:
        """The version/verack exchange and one ping; False when the node dropped the peer instead."""
        try:
            peer.wait_for_verack(timeout=10)
            peer.sync_with_ping(timeout=10)
            return True
        except AssertionError:
            if peer.is_connected:
                raise
            return False

    peers = []
    dropped = []
    if args.mode == 'misbehave':
        peer = connect()
        peers.append(peer)
        handshake(peer)
        peer.send_without_ping(msg_headers([CBlockHeader()] * (MAX_HEADERS_RESULTS + 1)))
        peer.wait_for_disconnect(timeout=30)
        dropped.append(peer.local)
    else:
        for _ in range(args.peers):
            peer = connect()
            peers.append(peer)
            handshake(peer)
        time.sleep(0.5)
        dropped = [p.local for p in peers if not p.is_connected]
    result = {
        'peers': [{'local': p.local, 'pings_sent': p.ping_counter - 1} for p in peers],
        'dropped': dropped,
    }
    for peer in peers:
        if peer.is_connected:
            peer.peer_disconnect()
    for peer in peers:
        peer.wait_until(lambda p=peer: not p.is_connected, check_connected=False, timeout=10)
    network.close(timeout=10)
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
