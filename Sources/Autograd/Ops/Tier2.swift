/// The tier-2 operator families (convolutional, normalisation, sequence, losses, extra math).
let tier2Ops: [OpDef] = convOps + poolingOps + normOps + lossOps + tier2UnaryOps + sequenceOps
