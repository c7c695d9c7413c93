/*
 * epoll_echo: a single-threaded, level-triggered epoll echo server in plain C.
 * It is the ceiling of the goasync echo benchmarks: no runtime, no buffers
 * beyond one stack buffer, one read and one write system call per event.
 *
 *   epoll_echo PORT [HOST]      (HOST defaults to 127.0.0.1)
 *
 * Prints "ready" on stdout once listening. A short write (the peer does not
 * read) keeps the remainder per connection and stops reading that connection
 * until the remainder is flushed, so memory stays bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXEV 256
#define BUFSZ 65536

struct pend {
	char *buf;
	size_t len, off;
};

static struct pend *pending; /* indexed by fd */
static int npending;

static void die(const char *what) {
	perror(what);
	exit(1);
}

static void closefd(int ep, int fd) {
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	if (fd < npending && pending[fd].buf) {
		free(pending[fd].buf);
		pending[fd].buf = NULL;
	}
	close(fd);
}

/* flush tries to write the pending remainder of fd; 1 = done, 0 = still
 * pending, -1 = error. */
static int flush(int fd) {
	struct pend *p = &pending[fd];
	while (p->off < p->len) {
		ssize_t n = write(fd, p->buf + p->off, p->len - p->off);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		p->off += (size_t)n;
	}
	free(p->buf);
	p->buf = NULL;
	return 1;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	npending = (int)rl.rlim_cur + 16;
	pending = calloc((size_t)npending, sizeof *pending);
	if (!pending)
		die("calloc");

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (ls < 0)
		die("socket");
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	if (inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &sa.sin_addr) != 1) {
		fprintf(stderr, "bad host\n");
		return 2;
	}
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind");
	if (listen(ls, 4096) < 0)
		die("listen");
	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0)
		die("epoll_ctl");
	printf("ready\n");
	fflush(stdout);

	static char buf[BUFSZ];
	struct epoll_event evs[MAXEV];
	for (;;) {
		int n = epoll_wait(ep, evs, MAXEV, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				for (;;) {
					int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
					if (c < 0)
						break; /* EAGAIN, or EMFILE: try again on the next event */
					if (c >= npending) {
						close(c);
						continue;
					}
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0)
						close(c);
				}
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				int r = flush(fd);
				if (r < 0) {
					closefd(ep, fd);
					continue;
				}
				if (r == 1) {
					struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
				}
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
				ssize_t r = read(fd, buf, sizeof buf);
				if (r <= 0) {
					if (r < 0 && (errno == EAGAIN || errno == EINTR))
						continue;
					closefd(ep, fd);
					continue;
				}
				ssize_t w = write(fd, buf, (size_t)r);
				if (w < 0) {
					if (errno != EAGAIN) {
						closefd(ep, fd);
						continue;
					}
					w = 0;
				}
				if (w < r) {
					struct pend *p = &pending[fd];
					p->len = (size_t)(r - w);
					p->off = 0;
					p->buf = malloc(p->len);
					if (!p->buf) {
						closefd(ep, fd);
						continue;
					}
					memcpy(p->buf, buf + w, p->len);
					struct epoll_event cev = {.events = EPOLLOUT, .data.fd = fd};
					epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
				}
			}
		}
	}
}
