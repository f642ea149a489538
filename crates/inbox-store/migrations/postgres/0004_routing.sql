-- R3 round_robin: the agent last chosen in each queue (its cursor), written after each choice.
ALTER TABLE queues ADD COLUMN route_cursor UUID;
