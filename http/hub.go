package http

import (
	"sort"
	"sync"
)

// Hub holds named publish/subscribe channels of server-sent events (house's
// subscribe! and publish!). Subscribers are Streams; a stream leaves every
// channel when it ends, for whatever reason, so dead subscribers are pruned
// without anyone asking. Publish never blocks: each subscriber has a
// bounded send buffer (its Stream's), and a subscriber that falls behind by
// more than that is dropped and its connection closed.
//
// A Hub is safe for concurrent use. The zero value is not usable; call
// NewHub.
type Hub struct {
	mu       sync.RWMutex
	channels map[string]map[*Stream]struct{}
}

// NewHub returns a hub with no channels.
func NewHub() *Hub { return &Hub{channels: make(map[string]map[*Stream]struct{})} }

// Subscribe adds s to the channel, creating the channel if needed. The
// stream leaves the channel when it ends. Subscribing a stream that has
// already ended does nothing.
func (h *Hub) Subscribe(channel string, s *Stream) {
	select {
	case <-s.Done():
		return
	default:
	}
	h.mu.Lock()
	subs := h.channels[channel]
	if subs == nil {
		subs = make(map[*Stream]struct{})
		h.channels[channel] = subs
	}
	_, again := subs[s]
	subs[s] = struct{}{}
	h.mu.Unlock()
	if !again {
		s.OnClose(func(error) { h.Unsubscribe(channel, s) })
	}
}

// Unsubscribe removes s from the channel; an empty channel is deleted.
func (h *Hub) Unsubscribe(channel string, s *Stream) {
	h.mu.Lock()
	if subs := h.channels[channel]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.channels, channel)
		}
	}
	h.mu.Unlock()
}

// Publish sends ev to every subscriber of the channel and returns how many
// it was queued to. The event is encoded once. A subscriber whose buffer is
// full is dropped (its connection closes) and not counted.
func (h *Hub) Publish(channel string, ev Event) int {
	h.mu.RLock()
	subs := h.channels[channel]
	list := make([]*Stream, 0, len(subs))
	for s := range subs {
		list = append(list, s)
	}
	h.mu.RUnlock()
	if len(list) == 0 {
		return 0
	}
	payload := ev.AppendTo(nil)
	sent := 0
	for _, s := range list {
		var b []byte
		if s.chunked {
			b = appendChunk(make([]byte, 0, len(payload)+12), payload)
		} else {
			b = append([]byte(nil), payload...)
		}
		f := s.writeFramed(b)
		if _, err, done := f.Result(); done && err != nil {
			h.Unsubscribe(channel, s)
			continue
		}
		sent++
	}
	return sent
}

// Count returns the number of subscribers of the channel.
func (h *Hub) Count(channel string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels[channel])
}

// Channels returns the names of the channels that have subscribers, sorted.
func (h *Hub) Channels() []string {
	h.mu.RLock()
	names := make([]string, 0, len(h.channels))
	for n := range h.channels {
		names = append(names, n)
	}
	h.mu.RUnlock()
	sort.Strings(names)
	return names
}
