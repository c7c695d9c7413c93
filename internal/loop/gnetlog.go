package loop

import (
	"sync"

	"github.com/panjf2000/gnet/v2/pkg/logging"

	"github.com/goasync/goasync/internal/logx"
)

// RouteGnetLogs sends gnet's own log lines (its netpoll reports a failed
// epoll_wait or wake-up there) through the library logger, named "gnet", at
// the levels gnet gives them: with the default no-op logger they are
// dropped instead of reaching standard output. gnet's default logger is
// process-wide, so this applies to every gnet user of the process. The
// root package calls it from SetLogger; a runtime calls it once when it
// starts.
func RouteGnetLogs() {
	l := logx.L()
	logging.SetDefaultLoggerAndFlusher(l.Named("gnet").Sugar(), l.Sync)
}

var routeOnce sync.Once

// routeGnetLogsOnce routes gnet's logs before the first loop starts.
func routeGnetLogsOnce() { routeOnce.Do(RouteGnetLogs) }
