import { nodeStreams } from "../../shared/streams/node.ts";
import { describeStreamRuntimeContract } from "../contracts/streams.ts";

// Lambda and the Node server; the S3 backend also sends upload bodies through this pipe.
describeStreamRuntimeContract("Node", nodeStreams, { lengthError: { code: "internal" } });
