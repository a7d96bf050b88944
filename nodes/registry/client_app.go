package registry

// PublishApp stores an application revision and publishes the app's
// publisher regID at addr naming it (app-level discovery, app.go); it
// returns the publisher's version. A reconnect registers the revision
// again with the publisher: the session may have dropped it (the client
// was switched off), and a publisher must never name a revision that was
// not stored.
func (c *Client) PublishApp(rev AppRevision, regID, addr string) uint64 {
	r := c.pubRec(regID)
	r.ver++
	r.dataID, r.data, r.live, r.rev = AppDataID(rev.App), AppPubData(addr, rev.Revision), true, &rev
	c.send(c.registration(r))
	return r.ver
}

// registration is what registers publisher regID on a connection.
func (c *Client) registration(r *clientPub) any {
	p := c.stamp(r.value())
	if rev := r.rev; rev != nil && p.DataID == AppDataID(rev.App) && revisionOf(p.Data) == rev.Revision {
		return &ClientRevision{Rev: *rev, Pub: p}
	}
	return &ClientPublish{Pub: p}
}
