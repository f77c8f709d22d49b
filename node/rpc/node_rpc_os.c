/*  node_rpc_os: the operating-system side of starting the RPC server (see node_rpc_os.h):
 *  the loopback bind address, the reason a bind failed, the cookie and address files.
 */
#include "node/rpc/node_rpc_os.h"

#include "proto/proto_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*  Parses "A.B.C.D:PORT" with a 127/8 address into SA and HOST. */
int node_rpc_os_parse_bind(const char *bind, struct sockaddr_in *sa,
                           char host[static INET_ADDRSTRLEN], char *err, size_t cap)
{
    const char *colon = bind ? strrchr(bind, ':') : NULL;
    if (!colon || colon == bind || (size_t)(colon - bind) >= INET_ADDRSTRLEN) {
        proto_err_fail(err, cap, NODE_E_FAILED, "bad RPC bind address '%s' (want 127.0.0.1:PORT)",
                       bind ? bind : "");
        return NODE_E_FAILED;
    }
    memcpy(host, bind, (size_t)(colon - bind));
    host[colon - bind] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        proto_err_fail(err, cap, NODE_E_FAILED,
                       "RPC must bind to an IPv4 loopback address like 127.0.0.1:PORT, not '%s'",
                       bind);
        return NODE_E_FAILED;
    }
    if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
        proto_err_fail(err, cap, NODE_E_FAILED,
                       "refusing to bind RPC to %s: the control API listens on loopback only",
                       bind);
        return NODE_E_FAILED;
    }
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno || port > 65535) {
        proto_err_fail(err, cap, NODE_E_FAILED, "bad RPC port in '%s'", bind);
        return NODE_E_FAILED;
    }
    sa->sin_port = htons((uint16_t)port);
    return 0;
}

/*  Why MHD could not start: tries the bind itself (as MHD does, with SO_REUSEADDR) to get
 *  the system's reason. */
void node_rpc_os_bind_error(const struct sockaddr_in *sa, const char *host, char *err, size_t cap)
{
    unsigned port = ntohs(sa->sin_port);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool bound = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                 bind(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
    int e = bound ? 0 : errno;
    if (fd >= 0)
        close(fd);
    if (e)
        proto_err_fail(err, cap, NODE_E_FAILED, "cannot bind RPC to %s:%u: %s", host, port,
                       strerror(e));
    else
        proto_err_fail(err, cap, NODE_E_FAILED, "cannot start the RPC server on %s:%u", host, port);
}

/*  Writes DATA to DIR/NAME atomically: a fresh DIR/.NAME.tmp (O_EXCL, MODE, any stale one
 *  removed first) renamed over NAME. Fills PATH with DIR/NAME. */
int node_rpc_os_write_file(const char *dir, const char *name, const char *data, size_t len,
                           mode_t mode, char path[static PATH_MAX], char *err, size_t cap)
{
    char tmp[PATH_MAX];
    if (snprintf(path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX ||
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp) {
        proto_err_fail(err, cap, NODE_E_FAILED, "datadir path too long: %s", dir);
        return NODE_E_FAILED;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        proto_err_fail(err, cap, NODE_E_FAILED, "cannot write %s: %s", path, strerror(errno));
        return NODE_E_FAILED;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int e = done == len ? 0 : errno ? errno : EIO;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        proto_err_fail(err, cap, NODE_E_FAILED, "cannot write %s: %s", path, strerror(e));
        return NODE_E_FAILED;
    }
    return 0;
}
