// The provider's clock, when the suite runs on another day (tests/clock.py): Date runs
// TEST_CLOCK_OFFSET seconds ahead of the real clock, as the test process's does, so the
// ID tokens it signs are issued "now" for the service. Imported before oidc-provider.
const offset = Number(process.env.TEST_CLOCK_OFFSET || 0) * 1000;

if (offset) {
  const RealDate = globalThis.Date;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) {
        super(RealDate.now() + offset);
      } else {
        super(...args);
      }
    }

    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate;
}
