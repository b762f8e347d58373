/**
 * The structured log sink every component takes: a message and key/value fields. Components
 * never print; whoever starts them decides where lines go.
 */
export type Log = (msg: string, fields?: Record<string, unknown>) => void;

/** A sink that drops everything (the default where no log is given). */
export const silent: Log = () => {};
