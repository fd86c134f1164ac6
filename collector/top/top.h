/*
 * top.h - `peerscope top`: a terminal view of the connections, consumed
 * back from Kafka (any cluster, or peerscope's embedded broker).
 *
 * It reads the connection_metrics topic (and the bgp_session topic when it
 * exists) from the beginning with a plain assign-based consumer (no
 * consumer group, nothing committed), keeps the latest message of each
 * connection, and renders one table: state, in/out bits/s with a bar
 * against capacity, utilisation, latency p50/p99 and prefixes when the
 * messages carry them ("-" otherwise), and when the state last changed.
 *
 * Live mode redraws in place (ANSI) every --interval; --once, or a stdout
 * that is not a terminal, reads up to the end of every partition (or
 * --timeout), prints the table once and exits.
 *
 * @thread main: a command of its own; it shares nothing with the collector.
 */
#ifndef PEERSCOPE_TOP_H
#define PEERSCOPE_TOP_H

/* argv[0] is "top".  Returns the process exit status. */
int top_main(int argc, char **argv);

#endif /* PEERSCOPE_TOP_H */
