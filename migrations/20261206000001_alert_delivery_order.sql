-- The deliverer asks, for every delivery due, whether an earlier one of the same alert to
-- the same receiver is still waiting (a resolved post never overtakes its firing post).
-- Without this index that question reads every pending delivery, for each one due.
CREATE INDEX alert_deliveries_waiting ON alert_deliveries (alert_id, receiver, id)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
