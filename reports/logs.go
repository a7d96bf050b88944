package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Severities of node log lines, from the kernel trace's record kinds: a
// panic is an error; what was done to a node (a crash, a fired failpoint,
// a closed connection) a warning; its start and its own trace events
// (sim.Env.Trace: leader changes, recoveries, snapshots) information; the
// message, timer and datagram traffic debug.
const (
	SevError = "ERROR"
	SevWarn  = "WARN"
	SevInfo  = "INFO"
	SevDebug = "DEBUG"
)

// maxMsg bounds a message's text in a log line: a raft snapshot or a batch
// of entries printed whole would make a line of megabytes.
const maxMsg = 400

// WorldLog is the log of what no single node did: the faults as applied.
const WorldLog = "world"

func severity(kind string) string {
	switch kind {
	case "panic", "bad-failpoint":
		return SevError
	case "crash", "fault", "failpoint", "conn-close", "connect-timeout", "keepalive":
		return SevWarn
	case "start", "trace":
		return SevInfo
	}
	return SevDebug
}

// Logs splits the kernel's full trace (JSON lines, sim.Config.Trace) into
// one severity-tagged log per node, and remembers which peer's message
// each client received at each moment, to name the node that answered an
// operation. It is an io.Writer: hand it to scenarios.Options.Trace.
type Logs struct {
	partial  []byte
	nodes    map[string]*bytes.Buffer
	counts   map[string]map[string]int // node -> severity -> lines
	received map[string]map[int64]string
	err      error
}

// NewLogs returns an empty Logs.
func NewLogs() *Logs {
	return &Logs{nodes: map[string]*bytes.Buffer{}, counts: map[string]map[string]int{}, received: map[string]map[int64]string{}}
}

// Write takes trace lines; a line may span calls.
func (l *Logs) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.partial = append(l.partial, p...)
			break
		}
		line := p[:i]
		if len(l.partial) > 0 {
			line = append(l.partial, line...)
			l.partial = l.partial[:0]
		}
		l.line(line)
		p = p[i+1:]
	}
	return n, nil
}

func (l *Logs) line(data []byte) {
	var r sim.TraceRecord
	if err := json.Unmarshal(data, &r); err != nil {
		if l.err == nil {
			l.err = fmt.Errorf("a trace line is not JSON: %v", err)
		}
		return
	}
	node := string(r.Node)
	if node == "" {
		node = WorldLog
	}
	if r.Kind == "deliver" && r.Msg != "" && r.Peer != "" {
		m := l.received[node]
		if m == nil {
			m = map[int64]string{}
			l.received[node] = m
		}
		if _, seen := m[r.T]; !seen {
			m[r.T] = string(r.Peer)
		}
	}
	b := l.nodes[node]
	if b == nil {
		b = &bytes.Buffer{}
		l.nodes[node] = b
		l.counts[node] = map[string]int{}
	}
	sev := severity(r.Kind)
	l.counts[node][sev]++
	fmt.Fprintf(b, "%11s %-5s %s", FormatTime(time.Duration(r.T)), sev, r.Kind)
	if r.Event != "" && r.Event != r.Kind {
		fmt.Fprintf(b, " %s", r.Event)
	}
	if len(r.Fields) > 0 && !(len(r.Fields) == 1 && r.Fields[0] == "") {
		fmt.Fprintf(b, " [%s]", strings.Join(r.Fields, " "))
	}
	if r.Peer != "" {
		fmt.Fprintf(b, " peer=%s", r.Peer)
	}
	if r.Conn != 0 {
		fmt.Fprintf(b, " conn=%d", r.Conn)
	}
	if r.Msg != "" {
		msg := r.Msg
		if len(msg) > maxMsg {
			msg = strings.ToValidUTF8(msg[:maxMsg], "") + fmt.Sprintf("… (%d bytes)", len(r.Msg))
		}
		fmt.Fprintf(b, " %s", msg)
	}
	b.WriteByte('\n')
}

// Err is the first malformed trace line's error, if any.
func (l *Logs) Err() error { return l.err }

// AnsweredBy is the node whose message node received at virtual time t
// ("" if none): the server that answered an operation returning then.
func (l *Logs) AnsweredBy(node string, t int64) string { return l.received[node][t] }

// LogFile is one node's log as written.
type LogFile struct {
	Node   string         `json:"node"`
	File   string         `json:"file"` // relative to the run's folder
	Counts map[string]int `json:"counts"`
}

// WriteFiles writes dir/logs/NODE.log for every node and returns them in node
// order (the world's log last).
func (l *Logs) WriteFiles(dir string) ([]LogFile, error) {
	if err := os.MkdirAll(filepath.Join(dir, LogDir), 0o755); err != nil {
		return nil, err
	}
	var out []LogFile
	var world *LogFile
	for _, node := range sortedKeys(l.nodes) {
		name := filepath.ToSlash(filepath.Join(LogDir, safeName(node)+".log"))
		f := LogFile{Node: node, File: name, Counts: l.counts[node]}
		if err := WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(name)), l.nodes[node].Bytes()); err != nil {
			return nil, err
		}
		if node == WorldLog {
			world = &f
			continue
		}
		out = append(out, f)
	}
	if world != nil {
		out = append(out, *world)
	}
	return out, nil
}

// LogDir is the folder of a run's node logs.
const LogDir = "logs"

// safeName keeps a node name usable as a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, s)
}
