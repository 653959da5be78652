/* conn_io.c: the shared handlers of the connection suites (see conn_io.h). */
#include "tests/unit/fake/conn_io.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "net/sock.h"

conn_io cio;

void conn_io_reset(void)
{
    memset(&cio, 0, sizeof(cio));
    cio.in = str_empty();
    cio.piece = 64 * 1024;
}

void conn_io_free(void)
{
    str_free(cio.in);
    str_free(cio.out);
    cio.in = cio.out = NULL;
}

int conn_io_free_port(void)
{
    char err[SOCK_ERR_LEN], addr[64];
    int fd = sock_listen_tcp("127.0.0.1", 0, 16, err);
    ck_assert_msg(fd != -1, "listen: %s", err);
    ck_assert_int_gt(sock_format_local(fd, addr, sizeof(addr)), 0);
    sock_close(fd);
    return atoi(strrchr(addr, ':') + 1);
}

void conn_io_collect(conn *c)
{
    char buf[64 * 1024];
    ssize_t n = conn_read(c, buf, cio.piece < sizeof(buf) ? cio.piece : sizeof(buf));
    if (n > 0) cio.in = str_cat_len(cio.in, buf, (size_t)n);
    if (n == 0) {
        cio.eof = 1;
        cio.eof_state = conn_get_state(c);
        conn_set_read_handler(c, NULL);
    }
}

void conn_io_echo(conn *c)
{
    char buf[256];
    ssize_t n = conn_read(c, buf, sizeof(buf));
    if (n > 0) ck_assert_int_eq(conn_write(c, buf, (size_t)n), n);
}

void conn_io_push(conn *c)
{
    size_t len = str_len(cio.out);
    while (cio.out_off < len) {
        ssize_t n = conn_write(c, cio.out + cio.out_off, len - cio.out_off);
        if (n == CONN_AGAIN) {
            cio.saw_again = 1;
            if (!conn_has_write_handler(c)) conn_set_write_handler(c, conn_io_push);
            return;
        }
        ck_assert_int_gt(n, 0);
        cio.out_off += (size_t)n;
    }
    conn_set_write_handler(c, NULL);
}
