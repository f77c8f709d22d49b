/*  node_rpc_os: the operating-system side of starting node_rpc's server.
 */
#ifndef GENIE_NODE_RPC_OS_H
#define GENIE_NODE_RPC_OS_H

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/stat.h>

/*  Parses BIND, "A.B.C.D:PORT" with a 127/8 address, into SA and HOST. 0, or NODE_E_FAILED
 *  with a one-line reason in ERR (CAP bytes). */
int node_rpc_os_parse_bind(const char *bind, struct sockaddr_in *sa,
                           char host[static INET_ADDRSTRLEN], char *err, size_t cap);

/*  Why a server could not start on SA: tries the bind itself (with SO_REUSEADDR, as
 *  libmicrohttpd does) to get the system's reason into ERR. */
void node_rpc_os_bind_error(const struct sockaddr_in *sa, const char *host, char *err, size_t cap);

/*  Writes DATA to DIR/NAME atomically: a fresh DIR/.NAME.tmp (O_EXCL, MODE, any stale one
 *  removed first) renamed over NAME. Fills PATH with DIR/NAME. 0, or NODE_E_FAILED with ERR. */
int node_rpc_os_write_file(const char *dir, const char *name, const char *data, size_t len,
                           mode_t mode, char path[static PATH_MAX], char *err, size_t cap);

#endif
