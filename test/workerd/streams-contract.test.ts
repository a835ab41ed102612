import { workerdStreams } from "../../shared/streams/workerd.ts";
import { describeStreamRuntimeContract } from "../contracts/streams.ts";

// FixedLengthStream reports a wrong length as a TypeError naming itself.
describeStreamRuntimeContract("workerd", workerdStreams, { lengthError: { message: /FixedLengthStream/ } });
